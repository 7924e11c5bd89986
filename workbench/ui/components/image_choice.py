"""The image component: the given image, a generated scene (seed), a bundled photo or an upload."""
from __future__ import annotations

import html

import ipywidgets as widgets

from ..style import STYLE, row_layout, show_if
from .base import Component, register


def _photos() -> tuple[list[str], str]:
    """The bundled photos and the one the picker opens on."""
    from ...data.photos import DEFAULT_PHOTO, PHOTOS
    return list(PHOTOS), DEFAULT_PHOTO


@register
class ImageChoice(Component):
    name, place, order = "image", "left", 10

    def __init__(self, context):
        super().__init__(context)
        given = context.given_image is not None
        self.source = widgets.ToggleButtons(options=(["given"] if given else []) + ["scene", "photo", "upload"],
                                            value="given" if given else "scene", style={"button_width": "70px"})
        self.scene_seed = widgets.BoundedIntText(value=0, min=0, max=10**6, description="scene seed", style=STYLE,
                                                 layout=row_layout())
        photos, first = _photos()
        self.photo = widgets.Dropdown(options=photos, value=first, description="photo", style=STYLE,
                                      layout=row_layout())
        self.upload = widgets.FileUpload(accept="image/*", multiple=False, description="upload",
                                         layout=widgets.Layout(width="auto"))
        for control in (self.source, self.scene_seed, self.photo, self.upload):
            control.observe(lambda _: self.choose(), names="value")
        self.note = widgets.HTML()        # how the image was read and which model explains it
        self.widget = widgets.VBox([widgets.HTML("<b>Image</b>"), self.source, self.scene_seed, self.photo,
                                    self.upload, self.note])
        self._show_controls()

    def _show_controls(self) -> None:
        """Only the control of the chosen source is visible."""
        for source, control in (("scene", self.scene_seed), ("photo", self.photo), ("upload", self.upload)):
            show_if(control, self.source.value == source)

    def choose(self) -> None:
        """Put the chosen image into the state with the model that explains it
        (:func:`~workbench.data.photos.model_for_image`: the user's chosen model, else the ImageNet model for a
        photo or an upload and the shapes model for a scene; a Workbench given a model keeps it)."""
        from ...data.photos import model_for_image

        self._show_controls()
        source, state = self.source.value, self.state
        try:
            chosen = self._read(source)          # first with the model there: a bad file changes nothing
            if self.context.given_model is None:
                wanted = model_for_image(source, state.chosen_model)
                if wanted is not None and wanted != state.model.name:
                    state.load_model(wanted, chosen=False)
                    chosen = self._read(source)  # framed for the model that explains it
        except ValueError as error:
            self._stale(str(error))
            return
        except Exception as error:
            self._stale(f"image: {type(error).__name__}: {error}")
            return
        if chosen is not None:
            image, key, notes = chosen
            state.set_image(image, key)
            self.note.value = "<br>".join(html.escape(n) for n in notes + self._model_notes(source))

    def _stale(self, message: str) -> None:
        """Report ``message``; the image and map shown stay, said to be the previous ones."""
        self.report_error(message)
        self.note.value = "<i>the image and map shown are still the previous ones</i>"

    def _model_notes(self, source: str) -> list[str]:
        """Which model explains the image when it is not the one the source would get by default."""
        from ...data.photos import model_for_image

        name, default = self.state.model.name, model_for_image(source, None)
        if default is None or name == default:
            return []
        why = "the model given to the Workbench" if self.context.given_model is not None else "your choice"
        return [f"explained by {name} ({why}); a {source} is otherwise explained by {default}"]

    def _read(self, source: str):
        """``(image, key, notes)`` of the chosen source; None for an upload not made yet."""
        from ...data.photos import photo_for
        from ...data.scenes import make_scene
        from ...data.uploads import read_upload

        if source == "scene":
            seed = int(self.scene_seed.value)
            return make_scene(seed).image, ("scene", seed), []
        if source == "photo":
            return photo_for(self.photo.value, self.state.model), ("photo", self.photo.value), []
        if source == "given":
            image = self.context.given_image
            return image, ("given", id(image)), []
        if not self.upload.value:
            return None
        upload = self.upload.value[0]
        content = bytes(upload["content"])
        read = read_upload(upload["name"], content, self.state.model)
        return read.image, ("upload", upload["name"], len(content)), list(read.notes)
