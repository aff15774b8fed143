-- A group's subject tag: the text in brackets before the subject of its
-- email, "[Birds] Owls at dusk" (issue 16's first newcomer task). NULL,
-- as every group so far, is the group's name (and follows a rename); an
-- empty tag means none.
ALTER TABLE groups ADD COLUMN subject_tag text
    CHECK (length(subject_tag) <= 60 AND subject_tag !~ '[][\r\n]');
