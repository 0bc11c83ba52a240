"""Amazon ECR credentials for `provider: aws`, with the run's AWS credentials (fluxcd/pkg/auth/aws).

The registry host names the region (`<account>.dkr.ecr.<region>.amazonaws.com`, the pattern Flux
takes from the ECR credential helper); `public.ecr.aws` uses ECR Public in us-east-1. The
authorization token decodes to `AWS:<password>`, sent as basic auth.
"""

from __future__ import annotations

import base64
import re

import boto3
import botocore.exceptions

from fluxpush.errors import SourceError

_REGISTRY = re.compile(
    r"([0-9+]*).dkr[.-]ecr(?:-fips)?\.([^/.]*)\.(amazonaws\.com[.cn]*|amazonaws\.eu|sc2s\.sgov\.gov|"
    r"c2s\.ic\.gov|cloud\.adc-e\.uk|csp\.hci\.ic\.gov|on\.aws)")
PUBLIC_ECR = "public.ecr.aws"


def ecr_region(host: str) -> str:
    """The region an ECR registry host names; a SourceError when it is not an ECR host."""
    if host == PUBLIC_ECR:
        return "us-east-1"
    match = _REGISTRY.search(host)
    if match is None:
        raise SourceError(f"invalid AWS registry: {host!r}: provider aws needs an ECR host "
                          "(<account>.dkr.ecr.<region>.amazonaws.com or public.ecr.aws)",
                          hint="set provider: generic (with secretRef) for a registry outside ECR")
    return match[2]


def ecr_credentials(host: str) -> str:
    """`AWS:<password>` for `host` from ECR's GetAuthorizationToken with the run's AWS credentials."""
    region = ecr_region(host)
    try:
        if host == PUBLIC_ECR:
            public = boto3.client("ecr-public", region_name=region)
            data = public.get_authorization_token()["authorizationData"]
        else:
            answer = boto3.client("ecr", region_name=region).get_authorization_token()
            data = (answer.get("authorizationData") or [{}])[0]
        token = data.get("authorizationToken")
    except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as exc:
        raise SourceError(f"{host}: ECR authorization token cannot be obtained in {region}: {exc}",
                          hint="give the run AWS credentials allowed ecr:GetAuthorizationToken") from None
    if not token:
        raise SourceError(f"{host}: ECR returned no authorization token")
    try:
        return base64.b64decode(token).decode()
    except ValueError:
        raise SourceError(f"{host}: failed to parse the ECR authorization token") from None
