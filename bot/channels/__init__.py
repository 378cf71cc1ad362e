"""Platform adapters: each turns platform updates into IncomingMessage and Replies into calls."""
