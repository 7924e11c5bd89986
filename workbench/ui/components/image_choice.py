"""The image component: the given image, a generated scene (seed), a bundled photo or an upload."""
from __future__ import annotations

import ipywidgets as widgets

from ..style import STYLE, row_layout, show_if
from .base import Component, register


def _photos() -> list[str]:
    from ...data.photos import PHOTOS
    return list(PHOTOS)


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
        self.photo = widgets.Dropdown(options=_photos(), description="photo", style=STYLE, layout=row_layout())
        self.upload = widgets.FileUpload(accept="image/*", multiple=False, description="upload",
                                         layout=widgets.Layout(width="auto"))
        for control in (self.source, self.scene_seed, self.photo, self.upload):
            control.observe(lambda _: self.choose(), names="value")
        self.widget = widgets.VBox([widgets.HTML("<b>Image</b>"), self.source, self.scene_seed, self.photo,
                                    self.upload])
        self._show_controls()

    def _show_controls(self) -> None:
        """Only the control of the chosen source is visible."""
        for source, control in (("scene", self.scene_seed), ("photo", self.photo), ("upload", self.upload)):
            show_if(control, self.source.value == source)

    def choose(self) -> None:
        """Put the chosen image into the state (scenes use the shapes model, photos the ImageNet one, unless the
        Workbench was given a model)."""
        from ...data.photos import default_model_for

        self._show_controls()
        source, state = self.source.value, self.state
        if self.context.given_model is None:
            wanted = default_model_for(source, state.model.name)
            if wanted != state.model.name:
                state.load_model(wanted)
        try:
            chosen = self._read(source)
        except Exception as error:
            self.report_error(f"image: {type(error).__name__}: {error}")
            return
        if chosen is not None:
            state.set_image(*chosen)

    def _read(self, source: str):
        """``(image, key)`` of the chosen source; None for an upload not made yet."""
        from ...data.photos import photo_for
        from ...data.scenes import make_scene
        from ...data.uploads import decode_upload

        if source == "scene":
            seed = int(self.scene_seed.value)
            return make_scene(seed).image, ("scene", seed)
        if source == "photo":
            return photo_for(self.photo.value, self.state.model), ("photo", self.photo.value)
        if source == "given":
            image = self.context.given_image
            return image, ("given", id(image))
        if not self.upload.value:
            return None
        upload = self.upload.value[0]
        content = bytes(upload["content"])
        return decode_upload(content, self.state.model.input_size), ("upload", upload["name"], len(content))
