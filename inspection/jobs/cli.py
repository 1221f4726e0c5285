"""``flask --app app jobs worker``: the worker, next to gunicorn (``make run`` starts both);
``flask --app app jobs recover``: put back what a dead worker left running."""
from __future__ import annotations

import json
import logging

import click
from flask.cli import AppGroup

from . import operations, queue

jobs_cli = AppGroup("jobs", help="The job queue (docs/jobs.md).")


@jobs_cli.command("worker")
@click.option("--workers", default=2, show_default=True, type=click.IntRange(1, 32),
              help="Jobs run at once (threads of this process).")
@click.option("--poll", default=1.0, show_default=True, type=click.FloatRange(0.1, 60),
              help="Longest wait between two looks at an idle embedded queue, in seconds "
                   "(Redis wakes the worker at once).")
def worker(workers: int, poll: float) -> None:
    """Run jobs as they are submitted, the periodic recovery and the daily reminders, until
    stopped (SIGINT or SIGTERM)."""
    the_queue = queue.current()
    if the_queue.huey is None:
        raise click.UsageError("JOBS_MODE=held: there is no queue to work on")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    click.echo(f"jobs worker {operations.worker_name()}: {the_queue.mode} queue "
               f"{queue.queue_name(the_queue.app)}, {workers} worker thread(s)")
    click.echo("recovered at start: " + json.dumps(operations.recover()))
    consumer = the_queue.huey.create_consumer(workers=workers, worker_type="thread",
                                              periodic=True, check_worker_health=True,
                                              max_delay=poll)
    consumer.run()


@jobs_cli.command("recover")
def recover() -> None:
    """Put back the jobs of dead workers and enqueue again lost messages."""
    click.echo(json.dumps(operations.recover()))


@jobs_cli.command("run-pending")
def run_pending() -> None:
    """Run every waiting job in this process (a queue-less deployment's cron)."""
    click.echo(json.dumps({"ran": operations.run_pending()}))
