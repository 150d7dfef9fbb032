"""The only package that speaks HTTP: the Webflow Data API v2 client, its pacing and schema parsing.

``from csvsync.webflow import WebflowClient, ClientOptions`` is the documented import path.
"""

from csvsync.webflow.client import ClientOptions, WebflowClient

__all__ = ["ClientOptions", "WebflowClient"]
