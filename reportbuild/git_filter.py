"""nbstripout, as this clone's git filter for notebooks (``build_report.sh``
sets it up; ``.gitattributes`` names it): the same command line, without
the second or more that ``python -m nbstripout`` spends on importing
nbformat (a grammar it never uses, see ``reportbuild/__init__.py``), which
git pays once per notebook it cleans (``git add``) or shows (``git diff``).

    python -m reportbuild.git_filter --keep-id [nbstripout's options] [notebooks]
"""

from nbstripout import main

if __name__ == "__main__":
    main()
