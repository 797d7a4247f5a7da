"""WhatsApp through Meta's WhatsApp Cloud API (Graph API), with approved message templates.

``client.WhatsAppAdapter`` sends; ``webhooks`` reads the signed webhook Meta posts to us.
Setting ``WHATSAPP_API_BASE`` points it at the built-in simulator instead of graph.facebook.com.
"""
