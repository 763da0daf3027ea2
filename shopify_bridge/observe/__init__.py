"""What the bridge tells people and machines: logging, metrics, health, progress."""
