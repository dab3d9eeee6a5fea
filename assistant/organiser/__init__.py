"""What the organisers see of the record: the content-gap list, the most asked, the answers rated down, speed and
routes; as tables (CSV) and plots, in one self-contained HTML file (`assistant report`), with a Markdown stub per
content gap to complete and drop into knowledge/."""
