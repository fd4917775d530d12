"""Email: templates and rendering, the transactional outbox, the SMTP sender, bounces."""
