"""Apply: read what APIM holds, plan against the manifests, and converge, safely and concurrently."""
