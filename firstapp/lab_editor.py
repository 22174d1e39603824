"""The lab's editor widget: the learner's YAML with line numbers, Apply (the editor's
text as it is, saved too), Reset (asks first) and, in checkpoint 2, "delete one web pod
and watch". Works in JupyterLab 4; without a frontend (nbval, a terminal) it shows as
the numbered text.

ipywidgets' Textarea has no line numbers: a read-only numbered gutter stands beside
it, both as tall as the text (no inner scrolling, no wrapping), so line N of the
gutter is line N of the text.
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING

import ipywidgets as widgets

if TYPE_CHECKING:
    from firstapp.lab import Lab

_STYLE = """<style>
.firstapp-editor textarea, .firstapp-gutter textarea {
  font-family: var(--jp-code-font-family, monospace); font-size: 13px; line-height: 18px;
  white-space: pre; overflow-wrap: normal; overflow-y: hidden; resize: none; padding-top: 4px; }
.firstapp-gutter textarea { text-align: right; color: #888; background: #f3f3f3; }
</style>"""


def numbered(text: str) -> str:
    """The text with its line numbers, as the gutter shows them."""
    lines = text.split("\n")
    return "\n".join(f"{n:>4} | {line}" for n, line in enumerate(lines, start=1))


class LabEditor(widgets.VBox):
    def __init__(self, lab: Lab, text: str) -> None:
        self.lab = lab
        self.gutter = widgets.Textarea(disabled=True, layout=widgets.Layout(width="4.5em", flex="0 0 auto"))
        self.gutter.add_class("firstapp-gutter")
        self.text = widgets.Textarea(value=text, layout=widgets.Layout(width="100%", flex="1 1 auto"))
        self.text.add_class("firstapp-editor")
        self.text.observe(lambda _: self._fit(), names="value")
        self.apply_button = widgets.Button(description="Apply", button_style="primary", icon="upload",
                                           tooltip="apply the text above as it is (it is saved too), then check it")
        self.reset_button = widgets.Button(description="Reset", icon="undo", tooltip="start over from the starter")
        self.confirm_button = widgets.Button(description="Yes, reset", button_style="danger")
        self.cancel_button = widgets.Button(description="Cancel")
        self.confirm = widgets.HBox([widgets.HTML(
            f"Reset puts the starter back into <code>{html.escape(lab.file.name)}</code> (your text is lost) and "
            f"deletes this lab's objects in namespace <code>{html.escape(lab.namespace)}</code>. Sure?&nbsp;"),
            self.confirm_button, self.cancel_button])
        self.confirm.layout.display = "none"
        self.status = widgets.HTML()
        self.output = widgets.Output()
        self.apply_button.on_click(lambda _: self.press_apply())
        self.reset_button.on_click(lambda _: self._ask_reset())
        self.confirm_button.on_click(lambda _: self.press_reset())
        self.cancel_button.on_click(lambda _: self._hide_confirm())
        buttons = [self.apply_button, self.reset_button]
        self.disrupt_button = None
        if lab.lab.disruption is not None:
            self.disrupt_button = widgets.Button(description=lab.lab.disruption.button, icon="heartbeat",
                                                 layout=widgets.Layout(width="auto"), tooltip=lab.lab.disruption.effect)
            self.disrupt_button.on_click(lambda _: self.press_disruption())
            buttons.append(self.disrupt_button)
        super().__init__([widgets.HTML(_STYLE + f"<b>{html.escape(str(lab.file.name))}</b> "
                                       f"(namespace {html.escape(lab.namespace)}; your web answers at "
                                       f"{html.escape(lab.place.url)})"),
                          widgets.HBox([self.gutter, self.text], layout=widgets.Layout(width="100%")),
                          widgets.HBox(buttons), self.confirm, self.status, self.output])
        self._fit()

    @property
    def value(self) -> str:
        return str(self.text.value)

    @value.setter
    def value(self, text: str) -> None:
        self.text.value = text

    def _fit(self) -> None:
        count = self.value.count("\n") + 1
        self.gutter.value = "\n".join(str(n) for n in range(1, count + 1))
        self.gutter.rows = self.text.rows = count + 1

    def _show(self, action: str, work: object) -> object:
        self.status.value = f"<i>{html.escape(action)}…</i>"
        for button in (self.apply_button, self.reset_button, self.disrupt_button):
            if button is not None:
                button.disabled = True
        self.output.clear_output()
        try:
            shown = work() if callable(work) else work
            with self.output:
                from IPython.display import display

                display(shown)
            return shown
        finally:
            self.status.value = ""
            for button in (self.apply_button, self.reset_button, self.disrupt_button):
                if button is not None:
                    button.disabled = False

    def press_apply(self) -> object:
        """What the Apply button does: the text as it is now, unsaved edits included."""
        return self._show("applying and checking", lambda: self.lab.apply(self.value, progress=self._progress))

    def _progress(self, status: str) -> None:
        self.status.value = f"<i>{html.escape(status)}</i>"

    def _ask_reset(self) -> None:
        self.confirm.layout.display = "flex"

    def _hide_confirm(self) -> None:
        self.confirm.layout.display = "none"

    def press_reset(self) -> object:
        self._hide_confirm()
        return self._show("resetting", lambda: _Message(self.lab.reset(confirm=True)))

    def press_disruption(self) -> object:
        assert self.lab.lab.disruption is not None, "only a lab with a disruptive check has its button"
        return self._show(self.lab.lab.disruption.effect, self.lab.disrupt)

    def __repr__(self) -> str:
        return f"{self.lab.file.name} (namespace {self.lab.namespace}; your web answers at {self.lab.place.url}):\n" \
               f"{numbered(self.value)}"


class _Message:
    def __init__(self, text: str) -> None:
        self.text = text

    def _repr_html_(self) -> str:
        return f"<p>{html.escape(self.text)}</p>"

    def __repr__(self) -> str:
        return self.text
