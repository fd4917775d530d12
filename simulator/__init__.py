"""The calendar simulator: replays the whole switch — June to October — in minutes.

`switchover simulate` builds a world (`world`: its own database, seeded customers, a local mail
relay `sink`), then moves an injected clock through the calendar (`driver`), running the flows'
work on their scheduled times (`jobs`, `migration_job`) and letting simulated people act
through the portal's real HTTP routes (`browser`, `reactions`) and the support mailbox
(`requests`). The report (`domain.simulation`) accounts for every organization and message.
"""
