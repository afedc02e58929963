"""The MSP directory, ideal-partner profiles and scored target lists."""
