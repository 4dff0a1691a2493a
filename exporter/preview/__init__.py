"""The Streamlit preview's logic (demo_web/ holds the pages): backends, photo, frame reuse, phone reports, model.

Everything here but ui.py runs without Streamlit, so the tests check it directly.
"""
