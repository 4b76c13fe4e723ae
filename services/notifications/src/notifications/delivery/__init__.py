"""The delivery runner: the worker loop that sends due messages and webhook deliveries."""
