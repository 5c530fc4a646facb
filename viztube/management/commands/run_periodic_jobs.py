from django.core.management.base import BaseCommand

from viztube import periodic


class Command(BaseCommand):
    help = (
        "Run the periodic jobs (scheduled publishing, ...) once, or forever with --forever. "
        "Needed only where the web processes do not run them (PERIODIC_JOBS_IN_PROCESS=false)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--forever", action="store_true", help="Keep running each job at its interval."
        )

    def handle(self, *args, forever=False, **options):
        if forever:
            periodic.run_forever()
        for job in periodic.jobs():
            result = periodic.run_job(job)
            self.stdout.write(f"{job.name}: {'failed' if result is None else result}")
