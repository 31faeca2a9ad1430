"""The integrations app (edge): what crosses the portal's border with other systems. The platform API for
marketplace systems (`platform/`, service tokens), webhooks (endpoints, the transactional outbox fed by
the cases' status changes, signed delivery through Celery), and the DSA Transparency Database and
Lumen exports."""
