"""`bibbla`: one command line for every step of the pipeline."""

import typer

from bibbla import privacy, reports, warehouse
from ingestion import cli as ingestion
from operational.entrypoints import cli as lending
from orchestration import cli as pipeline

app = typer.Typer(
    help="bibbla: the equal-library-service warehouse for Bergslagsbibblan.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.add_typer(lending.db_app, name="db")
app.add_typer(lending.token_app, name="token")
app.add_typer(lending.circulation_app, name="circulation")
app.add_typer(lending.patron_app, name="patron")
app.command("serve")(lending.serve)
app.command("simulate")(lending.simulate)
app.add_typer(reports.app, name="reports")
app.add_typer(ingestion.app, name="ingest")
app.add_typer(pipeline.app, name="pipeline")
app.add_typer(warehouse.app, name="warehouse")
app.add_typer(privacy.app, name="privacy")

if __name__ == "__main__":
    app()
