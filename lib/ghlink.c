#include <string.h>
#include <strings.h>

#include "ghlink.h"

int
ghlink_next(const char *link, char *out, size_t outlen)
{
	const char *p = link, *lt, *gt, *end;

	while (p && *p) {
		if ((lt = strchr(p, '<')) == NULL ||
		    (gt = strchr(lt, '>')) == NULL)
			return 0;
		/* the parameters run to the next ',' outside quotes */
		for (end = gt + 1; *end && *end != ','; end++) {
			if (*end != '"')
				continue;
			while (*++end && *end != '"')
				;
			if (*end == '\0')
				break;
		}
		for (p = gt + 1; p < end; p++) {
			const char *v, *ve;
			size_t vl;

			if (strncasecmp(p, "rel", 3) != 0)
				continue;
			for (v = p + 3; *v == ' '; v++)
				;
			if (*v != '=')
				continue;
			for (v++; *v == ' '; v++)
				;
			if (*v == '"') {
				v++;
				for (ve = v; ve < end && *ve != '"'; ve++)
					;
			} else
				for (ve = v; ve < end && *ve != ';' &&
				    *ve != ' '; ve++)
					;
			/* rel may list several space-separated types */
			while (v < ve) {
				const char *w = v;

				while (w < ve && *w != ' ')
					w++;
				if (w - v == 4 && strncasecmp(v, "next", 4) == 0) {
					vl = (size_t)(gt - lt - 1);
					if (vl >= outlen)
						return 0;
					memcpy(out, lt + 1, vl);
					out[vl] = '\0';
					return 1;
				}
				for (v = w; v < ve && *v == ' '; v++)
					;
			}
			break;
		}
		p = *end ? end + 1 : end;
	}
	return 0;
}
