"""The report: figures (plots, plots_inside), the LaTeX document from Jinja templates
(document), its compilation (latex) and the record of how it was made (provenance)."""
