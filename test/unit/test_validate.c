/* placeholder until the module tests land */
int main(void) { return 77; }
