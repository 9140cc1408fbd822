-- Revisions are drawn per account instead of from one counter for the whole
-- database: a user's sync tokens and ctags then move with that user's own
-- changes alone and tell nothing of anyone else's activity. Each account
-- starts from the value the shared counter had reached, above every
-- revision already stored, so that each token and ctag already handed out
-- keeps its meaning (the collection's changes after it), and a collection
-- created from now on still begins above every token of an older one that
-- had its name.
ALTER TABLE accounts ADD COLUMN revision INTEGER NOT NULL DEFAULT 0;
UPDATE accounts SET revision = (SELECT value FROM revision_counter WHERE id = 1);
DROP TABLE revision_counter;
