"""FaceKit preview: `make demo` (or `streamlit run demo_web/app.py`) opens it; one file per page in pages/."""

import streamlit as st

st.set_page_config(page_title="FaceKit preview", page_icon=":material/face:", layout="wide")
st.navigation([
    st.Page("pages/photo.py", title="Photo", icon=":material/photo_camera:", default=True),
    st.Page("pages/latency.py", title="Latency", icon=":material/speed:"),
    st.Page("pages/frame_reuse.py", title="Frame reuse", icon=":material/movie:"),
    st.Page("pages/phones.py", title="Phones", icon=":material/smartphone:"),
    st.Page("pages/model.py", title="Model", icon=":material/description:"),
]).run()
