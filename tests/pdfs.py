"""PDF fixtures made by the tests themselves (reportlab + pypdf)."""

from __future__ import annotations

from pathlib import Path


def make_pdf(path: Path, pages: list[str | None]) -> Path:
    """One string per page (lines split on \\n); None makes a page with no text layer."""
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen import canvas

    pdfmetrics.registerFont(UnicodeCIDFont("HeiseiKakuGo-W5"))
    c = canvas.Canvas(str(path))
    for text in pages:
        if text is None:
            c.rect(100, 100, 300, 300, fill=1)  # a drawing, no text
        else:
            c.setFont("HeiseiKakuGo-W5", 11)
            y = 780
            for line in text.split("\n"):
                c.drawString(60, y, line)
                y -= 16
        c.showPage()
    c.save()
    return path


def encrypt_pdf(src: Path, dst: Path, user_password: str = "", owner_password: str = "owner") -> Path:
    from pypdf import PdfWriter

    writer = PdfWriter(clone_from=str(src))
    writer.encrypt(user_password=user_password, owner_password=owner_password, algorithm="AES-256")
    with dst.open("wb") as f:
        writer.write(f)
    return dst


def make_table_pdf(path: Path, rows: list[list[str]], intro: str = "表の説明") -> Path:
    """A page with a ruled table (drawn grid), as office software exports them."""
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Table, TableStyle

    pdfmetrics.registerFont(UnicodeCIDFont("HeiseiKakuGo-W5"))
    doc = SimpleDocTemplate(str(path), pagesize=A4)
    table = Table(rows)
    table.setStyle(TableStyle([("FONT", (0, 0), (-1, -1), "HeiseiKakuGo-W5", 10), ("GRID", (0, 0), (-1, -1), 0.5, colors.black)]))
    doc.build([Paragraph(intro, ParagraphStyle("ja", fontName="HeiseiKakuGo-W5")), table])
    return path


def make_two_column_pdf(path: Path, left: list[str], right: list[str]) -> Path:
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen import canvas

    pdfmetrics.registerFont(UnicodeCIDFont("HeiseiKakuGo-W5"))
    c = canvas.Canvas(str(path))
    c.setFont("HeiseiKakuGo-W5", 10)
    for x, column in ((50, left), (310, right)):
        y = 780
        for line in column:
            c.drawString(x, y, line)
            y -= 14
    c.showPage()
    c.save()
    return path
