"""The login migration of the switch day: plan the waves, check, migrate, verify, roll back.

- `plan`: which organizations go in which wave (a canary first), as rows of ``migration_waves``
  and ``migration_items``; a later run reuses the plan and adds a catch-up wave for newcomers.
- `runs`: a record of each run; the first one freezes pre-registration.
- `preflight`: counts and conflicts before anything changes.
- `batch`: migrate a range of a wave's items — persons, memberships, registrations, legacy
  log-ins, activation emails — atomically per organization.
- `waves`: a wave's life (running, halted on a failure rate, completed) and its batches.
- `invariants`: what must hold after a wave.
- `rollback`: undo one wave.
- `unregistered`: the shared log-in of organizations that registered nobody.
"""
