"""SMS through Twilio's Programmable Messaging API, spoken with the official ``twilio`` library.

``client.TwilioSmsAdapter`` sends; ``webhooks`` reads Twilio's status callbacks and inbound SMS.
Setting ``TWILIO_API_BASE`` points the library at the built-in simulator instead of Twilio.
"""
