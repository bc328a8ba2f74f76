"""The run stage: execute the notebooks whose run key changed, reuse the
stored outputs of the others, and leave the executed notebooks in
``OUT/notebooks``.

    cache     stored runs, by run key (``keys``)
    kernels   executing notebooks with papermill, one kernel each
    stage     which notebooks run; OUT/notebooks replaced only when all succeed
"""
