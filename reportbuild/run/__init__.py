"""The run stage: execute the notebooks whose run key changed, reuse the
stored runs of the others, and put the executed notebooks and the files
they saved into the staging folder of the next report set.

    cache     stored runs (executed notebook + saved files), by run key (``keys``)
    kernels   executing notebooks with papermill, one kernel each
    progress  what a long-running notebook shows while it runs
    stage     which notebooks run; the staging folder's notebooks/ and results/
"""
