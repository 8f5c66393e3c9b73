"""The generated blocks of docs/*.md that the benchmark scripts rewrite:
<!-- BEGIN generated:KEY (SOURCE; do not edit by hand) --> … <!-- END generated:KEY -->."""


def replace_block(path, key, source, body):
    """Replaces block KEY of the Markdown file at `path` with `body`, or appends
    it when the file has no such block. `source` names the script in the marker."""
    begin = f"<!-- BEGIN generated:{key} ({source}; do not edit by hand) -->"
    end = f"<!-- END generated:{key} -->"
    with open(path) as f:
        text = f.read()
    block = f"{begin}\n{body}\n{end}"
    if begin in text and end in text:
        text = text[: text.index(begin)] + block + text[text.index(end) + len(end):]
    else:
        text += "\n" + block + "\n"
    with open(path, "w") as f:
        f.write(text)
