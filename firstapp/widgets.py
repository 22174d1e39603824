"""The course's widgets: decision #3's Service designer and the labs' YAML editor.

Both work in JupyterLab 4 and fall back to a useful text form without a frontend (an
nbval run, a terminal): their plain-text representation is the generated YAML and the
reachability table, not "VBox(...)".
"""

from __future__ import annotations

import html
from collections.abc import Callable
from pathlib import Path

import ipywidgets as widgets

from course.model import TIERS
from firstapp import design


def reachability_html(decision: dict[str, str]) -> str:
    table = design.reachability(decision)
    header = "".join(f"<th>{t.name}</th>" for t in TIERS)
    rows = ""
    for source in design.SOURCES:
        cells = "".join(
            f"<td style='text-align:center;color:{'#0a0' if table[(source, t.name)] else '#c00'}'>"
            f"{'&#10004; reaches' if table[(source, t.name)] else '&#10008; blocked'}</td>" for t in TIERS)
        rows += f"<tr><th style='text-align:left'>{source}</th>{cells}</tr>"
    problems = "".join(f"<li>{html.escape(m)}</li>" for m in design.mistakes(decision))
    verdict = (f"<ul style='color:#c00'>{problems}</ul>" if problems
               else "<p style='color:#0a0'>Only the frontend is open to the outside: decision #3 as the series makes it.</p>")
    return f"<table><tr><th>from / to</th>{header}</tr>{rows}</table>{verdict}"


def reachability_text(decision: dict[str, str]) -> str:
    table = design.reachability(decision)
    lines = ["from / to".ljust(22) + "".join(f"{t.name:<10}" for t in TIERS)]
    for source in design.SOURCES:
        lines.append(f"{source:<22}" + "".join(f"{'reaches' if table[(source, t.name)] else 'blocked':<10}"
                                               for t in TIERS))
    lines += [f"! {m}" for m in design.mistakes(decision)]
    return "\n".join(lines)


class ServiceDesigner(widgets.VBox):
    """Pick ClusterIP or NodePort per tier; the YAML and the reachability table follow.
    Starts where Kubernetes starts (ClusterIP everywhere); `apply` is the lesson's call."""

    def __init__(self, on_apply: Callable[[str], str] | None = None, decision: dict[str, str] | None = None):
        start = dict(decision or design.KUBERNETES_DEFAULT)
        self.pickers = {t.name: widgets.ToggleButtons(options=design.SERVICE_TYPES, value=start[t.name],
                                                      description=t.name, style={"button_width": "90px"})
                        for t in TIERS}
        self.preview = widgets.Textarea(layout=widgets.Layout(width="100%", height="330px"), disabled=True)
        self.preview.add_class("firstapp-yaml-preview")
        self.diagram = widgets.HTML()
        self.status = widgets.HTML()
        self._on_apply = on_apply
        button = widgets.Button(description="Apply", button_style="primary", icon="upload")
        button.on_click(lambda _: self.apply())
        for picker in self.pickers.values():
            picker.observe(lambda _: self._refresh(), names="value")
        controls = [*self.pickers.values(), button] if on_apply else list(self.pickers.values())
        super().__init__([widgets.HTML("<b>Decision #3: which Service type for each tier?</b>"), *controls,
                          self.status, widgets.HBox([self.preview, self.diagram])])
        self._refresh()

    @property
    def decision(self) -> dict[str, str]:
        return {name: picker.value for name, picker in self.pickers.items()}

    def choose(self, **types: str) -> ServiceDesigner:
        """Sets tiers' types from code, as clicking would: `designer.choose(web="NodePort")`."""
        for name, kind in types.items():
            self.pickers[name].value = kind
        return self

    @property
    def yaml(self) -> str:
        return design.services_yaml(self.decision)

    def _refresh(self) -> None:
        self.preview.value = self.yaml
        self.diagram.value = reachability_html(self.decision)

    def apply(self) -> str:
        message = self._on_apply(self.yaml) if self._on_apply else "nothing to apply to"
        self.status.value = f"<span>{html.escape(message)}</span>"
        return message

    def __repr__(self) -> str:
        return f"{self.yaml}\n{reachability_text(self.decision)}"


class YamlEditor(widgets.VBox):
    """A lab's YAML, edited in place and saved back to its file; Check runs `on_check`
    (apply, then grade) and shows its table below."""

    def __init__(self, path: Path, on_check: Callable[[], object]):
        self.path = Path(path)
        self.text = widgets.Textarea(value=self.path.read_text(), layout=widgets.Layout(width="100%", height="420px"))
        self.output = widgets.Output()
        save = widgets.Button(description="Save", icon="save")
        check = widgets.Button(description="Apply and check", button_style="primary", icon="check")
        save.on_click(lambda _: self.save())
        check.on_click(lambda _: self._check(on_check))
        super().__init__([widgets.HTML(f"<b>{html.escape(self.path.name)}</b>"), self.text,
                          widgets.HBox([save, check]), self.output])

    def save(self) -> None:
        self.path.write_text(self.text.value)

    def _check(self, on_check: Callable[[], object]) -> None:
        self.save()
        self.output.clear_output()
        with self.output:
            from IPython.display import display

            display(on_check())

    def __repr__(self) -> str:
        return f"{self.path} (edit it here, or in any editor):\n{self.text.value}"
