from django.core.management.base import BaseCommand

from viztube import periodic


class Command(BaseCommand):
    help = (
        "Run every periodic task of CELERY_BEAT_SCHEDULE (scheduled publishing, upload temp "
        "sweep, expired tokens, orphan media report) once, now, in this process; or, with "
        "--forever, each at its schedule, as the web processes do when there is no broker. "
        "With a broker, `celery -A viztube beat` schedules them: use this to run them by hand."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--forever", action="store_true", help="Keep running each task at its schedule."
        )

    def handle(self, *args, forever=False, **options):
        if forever:
            periodic.run_forever()
        for entry in periodic.entries():
            result = periodic.run_entry(entry)
            if result.failed():
                outcome = "failed"
            else:
                outcome = "done" if result.result is None else result.result
            self.stdout.write(f"{entry.name}: {outcome}")
