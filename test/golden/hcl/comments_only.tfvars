# only comments here

// nothing else
/* not even
   an attribute */
   # indented comment