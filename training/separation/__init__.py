"""stemscribe's own source separator (open-unmix style), trained on rendered multitracks."""
