"""Model: the model card, the manifest, the verification table of the last export and the bundle as a zip."""

import pandas as pd
import streamlit as st

from exporter.paths import WEIGHTS_DIR
from exporter.preview import ui
from exporter.preview.model_info import MANIFEST_SECTIONS, bundle_zip, verification_rows

bundle = ui.bundle_or_stop()
ui.sidebar(bundle)
manifest = bundle.manifest
st.title("Model")


@st.cache_data(show_spinner="Zipping the bundle...")
def _zip(folder: str, stamp: str) -> bytes:
    return bundle_zip(folder)


st.download_button("Download the bundle (zip)", _zip(str(bundle.folder), bundle.stamp),
                   file_name=f"facekit-{manifest['target']}.zip", mime="application/zip", icon=":material/download:")

st.subheader("Verification of the last export")
st.caption(f"Every file the host runs, against PyTorch on {manifest['verification']['images']} held-out images "
           f"({manifest['verification'].get('source', '')}); Core ML is checked statically on Linux.")
st.dataframe(pd.DataFrame(verification_rows(manifest)), hide_index=True)

st.subheader("Manifest")
st.caption("What an app needs to run and decode the models (manifest.json in the bundle).")
for tab, section in zip(st.tabs(list(MANIFEST_SECTIONS)), MANIFEST_SECTIONS):
    with tab:
        st.json(manifest[section], expanded=2)

st.subheader("Model card")
card = WEIGHTS_DIR / "MODEL_CARD.md"
curves = WEIGHTS_DIR / "training_curves.png"
if curves.is_file():
    st.image(str(curves), caption="Training curves")
if card.is_file():
    st.markdown(card.read_text(encoding="utf-8"))
else:
    st.info(f"No model card at `{card}`: `make train` writes it.")
