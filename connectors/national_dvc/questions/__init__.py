"""Citizens' questions sent through the national portal: pulled into ``question.asked`` notices for the
one-stop system, answered back with ``DongBoKetQuaHoiDapGuiTuDVCQG``, and an alert for one left
unanswered past its deadline. See README.md."""
