"""speechqa: speech analytics for contact-center call review."""

__version__ = "0.1.0"
