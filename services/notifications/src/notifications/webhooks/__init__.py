"""Webhook subscriptions for integrators: signed deliveries (Standard Webhooks), retries, replay."""
