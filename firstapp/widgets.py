"""The course's widgets: decision #3's Service designer (the labs' editor is
`firstapp.lab_editor`).

It works in JupyterLab 4 and falls back to a useful text form without a frontend (an
nbval run, a terminal): its plain-text representation is the generated YAML and the
reachability table, not "VBox(...)".
"""

from __future__ import annotations

import html
from collections.abc import Callable

import ipywidgets as widgets

from course.errors import UnusableInput
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


Observed = dict[tuple[str, str], tuple[bool, str]]  # (source, tier) -> (reached, what happened)


def observed_html(decision: dict[str, str], observed: Observed) -> str:
    predicted = design.reachability(decision)
    header = "".join(f"<th>{t.name}</th>" for t in TIERS)
    rows = ""
    for source in design.SOURCES:
        cells = ""
        for t in TIERS:
            reached, what = observed[(source, t.name)]
            colour = "#0a0" if reached else "#c00"
            odd = "" if reached == predicted[(source, t.name)] else " outline:2px solid #f80;"
            cells += (f"<td style='text-align:center;color:{colour};{odd}' title='{html.escape(what, quote=True)}'>"
                      f"{'&#10004; reached' if reached else '&#10008; blocked'}<br><small>{html.escape(what)}</small></td>")
        rows += f"<tr><th style='text-align:left'>{source}</th>{cells}</tr>"
    return f"<b>Observed (real probes)</b><table><tr><th>from / to</th>{header}</tr>{rows}</table>"


def observed_text(decision: dict[str, str], observed: Observed) -> str:
    """Predicted and observed side by side, one line per (source, tier); `!` marks a line
    where what happened is not what the table predicts."""
    predicted = design.reachability(decision)
    lines = [f"{'from -> to':<32}{'predicted':<11}observed"]
    for source in design.SOURCES:
        for t in TIERS:
            reached, what = observed[(source, t.name)]
            mark = "  " if reached == predicted[(source, t.name)] else "! "
            lines.append(f"{mark}{source + ' -> ' + t.name:<30}{'reaches' if predicted[(source, t.name)] else 'blocked':<11}"
                         f"{what}")
    return "\n".join(lines)


class ServiceDesigner(widgets.VBox):
    """Pick ClusterIP or NodePort per tier; the preview (the types only: checkpoint 3 asks
    for the rest) and the predicted reachability follow. Starts where Kubernetes starts
    (ClusterIP everywhere). Apply (`apply()` from code) calls `on_apply` with the full
    Services, then `observe`, and shows what real probes saw beside the prediction."""

    def __init__(self, on_apply: Callable[[str], str] | None = None, decision: dict[str, str] | None = None,
                 observe: Callable[[], Observed] | None = None, node_port: int | None = None):
        start = dict(decision or design.KUBERNETES_DEFAULT)
        self.node_port = node_port
        self.pickers = {t.name: widgets.ToggleButtons(options=design.SERVICE_TYPES, value=start[t.name],
                                                      description=t.name, style={"button_width": "90px"})
                        for t in TIERS}
        self.preview = widgets.Textarea(layout=widgets.Layout(width="100%", height="330px"), disabled=True)
        self.preview.add_class("firstapp-yaml-preview")
        self.diagram = widgets.HTML()
        self.observed = widgets.HTML()
        self.status = widgets.HTML()
        self.apply_log = widgets.Output()
        self.last_observed: Observed | None = None
        self._on_apply, self._observe = on_apply, observe
        button = widgets.Button(description="Apply", button_style="primary", icon="upload")
        button.on_click(lambda _: self._clicked())
        for picker in self.pickers.values():
            picker.observe(lambda _: self._refresh(), names="value")
        controls = [*self.pickers.values(), button] if on_apply else list(self.pickers.values())
        super().__init__([widgets.HTML("<b>Decision #3: which Service type for each tier?</b>"), *controls,
                          self.status, widgets.HBox([self.preview, widgets.VBox([self.diagram, self.observed])]),
                          self.apply_log])
        self._refresh()

    @property
    def decision(self) -> dict[str, str]:
        return {name: picker.value for name, picker in self.pickers.items()}

    def choose(self, **types: str) -> ServiceDesigner:
        """Sets tiers' types from code, as clicking would: `designer.choose(web="NodePort")`."""
        for name, kind in types.items():
            if name not in self.pickers or kind not in design.SERVICE_TYPES:
                raise UnusableInput(f"choose(tier=type): tiers {', '.join(self.pickers)}; "
                                    f"types {', '.join(design.SERVICE_TYPES)}")
            self.pickers[name].value = kind
        return self

    @property
    def yaml(self) -> str:
        """The full Services Apply applies (selectors and ports filled in by the course)."""
        return design.services_yaml(self.decision, *([self.node_port] if self.node_port else []))

    @property
    def preview_yaml(self) -> str:
        return design.preview_yaml(self.decision)

    def _refresh(self) -> None:
        self.preview.value = self.preview_yaml
        self.diagram.value = "<b>Predicted</b>" + reachability_html(self.decision)
        if self.last_observed is not None:
            self.observed.value = "<i>changed since the last Apply: press Apply to observe again</i>"

    def _clicked(self) -> None:
        self.apply_log.clear_output()
        with self.apply_log:
            self.apply()

    def apply(self) -> None:
        """Applies the decision's Services, then probes and shows who really reaches what."""
        if not self._on_apply:
            print("nothing to apply to")
            return
        message = self._on_apply(self.yaml)
        self.status.value = f"<span>{html.escape(message)}</span>"
        print(message)
        if self._observe:
            self.last_observed = self._observe()
            self.observed.value = observed_html(self.decision, self.last_observed)
            print(observed_text(self.decision, self.last_observed))

    def __repr__(self) -> str:
        return f"{self.preview_yaml}\n{reachability_text(self.decision)}"
