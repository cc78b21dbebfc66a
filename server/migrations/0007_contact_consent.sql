-- Contacts by consent. A row (owner, contact) is owner's wish to have contact in their list;
-- its state says what contact made of it: 'pending' (not answered yet), 'accepted' (owner sees
-- contact's presence) or 'declined' (owner is not told: to them it stays a request sent).
-- Rows from before consent existed are accepted when both sides had added each other, and
-- become requests otherwise.
ALTER TABLE contacts ADD COLUMN state TEXT NOT NULL DEFAULT 'pending'
    CHECK (state IN ('pending', 'accepted', 'declined'));

UPDATE contacts SET state = 'accepted'
WHERE EXISTS (SELECT 1 FROM contacts AS back
              WHERE back.owner_id = contacts.contact_id AND back.contact_id = contacts.owner_id);
