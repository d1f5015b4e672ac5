"""Runs a notebook that `sigbook run --report` wrote again with the sigbook kernel (nbclient),
and compares each code cell's text outputs (stdout and shown values) and its number of figures
with the run's.

Usage: rerun_notebook.py NOTEBOOK.ipynb
JUPYTER_PATH must find the sigbook kernelspec; the kernel runs in the notebook's folder. Prints
one JSON object, {"run": [[text, figures], …], "kernel": [[text, figures], …]}, and exits 1
when they differ. Used by SigbookKernelTests and by .ci/run for every workbook.
"""
import copy
import json
import os
import sys

import nbformat
from nbclient import NotebookClient

path = sys.argv[1]
notebook = nbformat.read(path, as_version=4)
ran = copy.deepcopy(notebook)
NotebookClient(notebook, kernel_name="sigbook", timeout=3600,
               resources={"metadata": {"path": os.path.dirname(os.path.abspath(path))}}).execute()


def outputs(notebook):
    cells = []
    for cell in notebook.cells:
        if cell.cell_type != "code":
            continue
        text, figures = "", 0
        for output in cell.outputs:
            if output.output_type == "stream" and output.name == "stdout":
                text += output.text
            elif output.output_type == "execute_result":
                text += output.data["text/plain"] + "\n"
            elif output.output_type == "display_data":
                figures += 1
        cells.append([text, figures])
    return cells


before, after = outputs(ran), outputs(notebook)
print(json.dumps({"run": before, "kernel": after}))
if before != after:
    for number, (a, b) in enumerate(zip(before, after), start=1):
        if a != b:
            print("%s: code cell %d differs:\n  run:    %r\n  kernel: %r" % (path, number, a, b),
                  file=sys.stderr)
    sys.exit(1)
