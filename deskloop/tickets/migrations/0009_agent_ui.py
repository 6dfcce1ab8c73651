"""Notifications store what happened (kind + parameters) and are worded when read, in the reader's language.

Existing rows get their parameters back from what is still known: the ticket's number (assignments and mentions)
and the mentioning agent, from the outbox event the notification answered or else from the stored sentence in
any of the catalogue's languages. A row whose author cannot be recovered keeps showing its stored sentence.
"""

import re

from django.db import migrations, models

# The mention sentence as it was stored in English, Spanish and Russian: "<author> mentioned you on #12".
MENTION_SENTENCES = [
    re.compile(r"^(?P<author>.+) mentioned you on #\d+$"),
    re.compile(r"^(?P<author>.+) te mencionó en #\d+$"),
    re.compile(r"^(?P<author>.+) упомянул\(а\) вас в #\d+$"),
]


def _author_name(apps, row):
    OutboxEvent = apps.get_model("core", "OutboxEvent")
    Agent = apps.get_model("accounts", "Agent")
    if row.event_id is not None:
        event = OutboxEvent.objects.filter(pk=row.event_id).first()
        author_id = event.payload.get("author_agent_id") if event is not None else None
        author = Agent.objects.select_related("user").filter(pk=author_id).first() if author_id else None
        if author is not None:
            return author.display_name or author.user.name or author.user.email
    for sentence in MENTION_SENTENCES:
        found = sentence.match(row.text)
        if found:
            return found.group("author")
    return None


def recover_params(apps, schema_editor):
    Notification = apps.get_model("tickets", "Notification")
    for row in Notification.objects.filter(params={}, ticket__isnull=False).select_related("ticket").iterator():
        params = {"number": row.ticket.number}
        if row.kind == "mention":
            author = _author_name(apps, row)
            if author is None:
                continue
            params["author"] = author
        row.params = params
        row.save(update_fields=["params"])


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0003_api_rate_counter"),
        ('tickets', '0008_refusals_onboarding'),
    ]

    operations = [
        migrations.AddField(
            model_name="notification",
            name="params",
            field=models.JSONField(blank=True, default=dict),
        ),
        migrations.RunPython(recover_params, migrations.RunPython.noop),
        migrations.AlterField(
            model_name='message',
            name='channel',
            field=models.CharField(choices=[('email', 'Email'), ('web', 'Web'), ('widget', 'Widget'), ('api', 'API'), ('phone', 'Phone'), ('import', 'Import'), ('other', 'Other')], default='web', max_length=10),
        ),
        migrations.AlterField(
            model_name='ticket',
            name='channel',
            field=models.CharField(choices=[('email', 'Email'), ('web', 'Web'), ('widget', 'Widget'), ('api', 'API'), ('phone', 'Phone'), ('import', 'Import'), ('other', 'Other')], default='web', max_length=10, verbose_name='channel'),
        ),
    ]
