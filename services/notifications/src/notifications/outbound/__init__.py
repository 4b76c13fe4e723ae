"""What messages and webhook deliveries share to leave the service: retry schedule, signatures, transports."""
