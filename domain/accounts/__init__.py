"""Individual accounts after the switch: passwords, activation, log-in, invitations, users.

One person, one account (one row of ``persons`` per normalized email), with a membership and a
role in each organization they belong to. What a role may do is `domain.roles`; every function
here that acts for a person checks it with `domain.roles.authorize`.
"""
