"""Helpdesk ingest: the support mailbox (IMAP or Maildir) and the contact-form export, read into
helpdesk contacts — deduplicated, threaded, matched to organizations and categorized.

`run.ingest_mailbox` reads a mailbox (`mailboxes`), `records.record_mail` stores one message,
`categories` holds the English and Japanese rules, and `forms_export` imports the CSV or XLSX
file Microsoft Forms exports from the contact form.
"""
