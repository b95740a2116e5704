-- Swarm mode: the node (hostname) that runs a replica, and the address the edge proxy
-- dials for it (the node's address and the port Swarm published for the task). Both NULL
-- on a single engine, where the proxy dials the container's address.
ALTER TABLE containers ADD COLUMN node text, ADD COLUMN dial text;
