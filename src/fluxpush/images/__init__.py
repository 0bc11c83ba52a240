"""Image automation in push mode: ImageRepository tags, ImagePolicy choices, ImageUpdateAutomation commits."""
