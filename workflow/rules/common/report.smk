# What the report shows is found by one convention, not listed: a rule puts an element into
# the report by naming an output after its kind, and the templates find it under the rule's
# name without its verb. plot_roc's output `figure` is `fig.roc`; analyze_roc's output
# `context` (a JSON file) is `ctx.roc`; analyze_models's output `table` (a CSV file) is
# `table.models`; an output `figure_best` of plot_mistakes is `fig.mistakes_best`. Adding a
# figure is its rule, its script and the template lines that show it (README, "Adding a
# figure"); render_report fails on a figure that no template shows.
REPORT_KINDS = {"figure": "fig", "context": "ctx", "table": "table"}


def report_elements(kind=None):
    """Input name (`fig_roc`, `ctx_roc`, `table_models`, ...) -> path, of every rule's report
    outputs; only those of one kind (`figure`, ...) when asked. Two rules whose outputs would
    take one name (analyze_x's and inspect_x's `context`: both `ctx.x`) stop the workflow: the
    second would silently replace the first in the report."""
    elements, claimed_by = {}, {}
    for r in workflow.rules:
        name = r.name.split("_", 1)[-1]  # the rule's name without its verb
        for key, path in r.output.items():
            base, _, part = key.partition("_")
            if base not in REPORT_KINDS:
                continue
            element = f"{REPORT_KINDS[base]}_{name}{'_' + part if part else ''}"
            if element in claimed_by:
                raise WorkflowError(
                    f"rules {claimed_by[element]} and {r.name} both put "
                    f"{element.replace('_', '.', 1)} into the report (an output `{key}` takes "
                    f"its rule's name without the verb); rename one of the rules or outputs"
                )
            claimed_by[element] = r.name
            if kind is None or base == kind:
                elements[element] = str(path)
    return elements
