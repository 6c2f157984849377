/*
 * noentry.c: a shared object that is not a ringwsd plugin: it exports a
 * function, but not rws_plugin_entry. ringwsd must refuse it, naming the
 * file, with exit status 2.
 */
int not_a_plugin(void);

int not_a_plugin(void)
{
	return 42;
}
