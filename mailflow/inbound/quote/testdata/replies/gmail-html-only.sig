Bob Martin
Release manager
