"""Messages to customers and staff (email, SMS, webhook calls): templates, delivery log, retries."""
