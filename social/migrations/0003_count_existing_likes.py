from django.db import migrations
from django.db.models import Count, Exists, OuterRef, Subquery


def count_existing_likes(apps, schema_editor):
    """Comments and tweets that already have likes start with their number (set-based: one
    UPDATE per table, touching only the rows that have likes)."""
    like = apps.get_model("social", "Like")
    for model_name, target in (("Comment", "comment"), ("Tweet", "tweet")):
        model = apps.get_model("social", model_name)
        likes_of_row = like.objects.filter(**{target: OuterRef("pk")})
        totals = likes_of_row.order_by().values(target).annotate(total=Count("*")).values("total")
        model.objects.filter(Exists(likes_of_row)).update(likes_count=Subquery(totals))


class Migration(migrations.Migration):
    # Not in the transaction of 0002 (which adds the columns under an ACCESS EXCLUSIVE lock):
    # each UPDATE commits on its own and never blocks reads. A like toggled while it runs can be
    # missed; `manage.py recount_counters` (batched, safe on a live site) settles that.
    atomic = False

    dependencies = [
        ("social", "0002_likes_counters"),
    ]

    operations = [migrations.RunPython(count_existing_likes, migrations.RunPython.noop)]
