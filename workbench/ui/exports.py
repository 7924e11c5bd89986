"""Tables the tabs offer for download: a CSV inside an HTML link."""
from __future__ import annotations

import base64
import html


def csv_link(name: str, table) -> str:
    """An HTML link that downloads ``table`` (a pandas DataFrame) as ``name.csv`` from the browser."""
    data = base64.b64encode(table.to_csv(index=False).encode("utf-8")).decode("ascii")
    return (f"<a download='{html.escape(name)}.csv' href='data:text/csv;base64,{data}' "
            f"title='download this table as CSV'>&#11015; {html.escape(name)}.csv</a>")


def decode_csv_link(link: str):
    """The DataFrame a :func:`csv_link` carries (tests, and anyone reading an exported link back)."""
    import io

    import pandas as pd

    data = link.split("base64,", 1)[1].split("'", 1)[0]
    return pd.read_csv(io.StringIO(base64.b64decode(data).decode("utf-8")))
