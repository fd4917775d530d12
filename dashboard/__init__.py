"""The managers' dashboard: a Streamlit app over the project's database (`switchover dashboard`).

It only reads through `db.dashboard` queries and writes only through `domain` functions.
"""
